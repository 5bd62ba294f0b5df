"""The ml floor: the model registry, news and sentiment, the risk model's opinion, the goal
projections' Monte Carlo and the chat assistant. Torch is imported only under `inference/`
and `training/`, in the ml worker."""
