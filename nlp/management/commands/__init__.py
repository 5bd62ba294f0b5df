"""Train, evaluate and run the models; ingest news; build the knowledge index."""
