"""Text messages (SMS): an outbox like the mail outbox, providers behind one small interface
(the embedded local sink, 46elks), phone numbers in E.164 and the segment count of a text.

Like mailing, this package imports no feature package: studios are referred to by id and
messages carry their final text.
"""
