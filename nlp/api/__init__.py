"""The nlp app's slice of /api/v1/: news on holdings, advisor alerts, chat."""
