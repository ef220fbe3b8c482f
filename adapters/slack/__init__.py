"""Learnbot in Slack: slack-bolt AsyncApp wiring, Block Kit rendering and Web API delivery."""
