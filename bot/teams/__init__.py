"""Microsoft Teams: the same commands, reports and approval flow as Slack, through
botbuilder's CloudAdapter on `POST /api/messages`."""
