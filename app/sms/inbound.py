"""Replies to a studio's texts: "STOP" (in the languages we speak) opts the number out of that
studio's texts. 46elks posts each incoming text to a URL we give it; the URL carries a signed
token naming the studio (46elks signs nothing itself), so nobody can opt numbers out by posting
there."""

from app.signing import signer, signing_keys

STOP_WORDS = frozenset({"stop", "stopp", "avsluta", "arret", "arrêt", "стоп", "unsubscribe", "abmelden"})
_SALT = "sms-inbound"


def inbound_token(studio_id):
    return signer(signing_keys(), _SALT).sign(str(studio_id).encode("ascii")).decode("ascii")


def read_inbound_token(token):
    """The studio id, or None for a token we did not make."""
    from itsdangerous import BadSignature

    try:
        return int(signer(signing_keys(), _SALT).unsign(token.encode("ascii")).decode("ascii"))
    except (BadSignature, ValueError, UnicodeError):
        return None


def is_stop(text):
    """Whether a reply means "no more texts": one of the stop words, alone (case, spaces and
    final punctuation aside)."""
    return (text or "").strip().strip(".!").casefold() in STOP_WORDS
