"""Alertmanager as a source of incidents: the webhook receiver and the alert → incident mapping."""
