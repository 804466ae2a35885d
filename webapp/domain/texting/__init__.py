"""Text messages (SMS/MMS): the conversation that turns a resident's texts into a request,
a status, a reopening or an answer, and the carrier keywords (STOP, START, HELP).

``inbound`` handles one webhook message exactly once (by the provider's message id),
``conversation`` holds the steps (service → place → photo → confirmation), ``keywords``
reads the commands, ``location`` reads a place; ``webapp.domain.sms_segments`` measures a text. The
request's life never imports this package; text notifications are the notifications
context's (``webapp.domain.notifications.text``).
"""
