"""Photo-to-card matching on a school day: the photographer shoots each child's QR card, then
the child; a photo whose QR code is a card of the gallery starts that card's run.

Interface used by the photo processing (app/galleries/processing.py); filled in by the card
matching work of issue 20.
"""


def on_photo_processed(photo, image, now):
    """Called once per photo, right after processing made it "ready", with the decoded,
    upright ``PIL.Image`` (downscaled to at most 2,048 px on its long side). Flushes only."""
