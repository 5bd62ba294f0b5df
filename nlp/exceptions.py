"""The errors of the models, news and chat side, in one module that imports nothing of nlp.

Any nlp module (web or worker side) can raise or catch these without importing the module that
raises them: catching ModelUnavailable, for one, must not load torch with the loader."""

from config.errors import ApplicationError


class ModelUnavailable(LookupError):
    """No approved version of a model, or its files are missing: predictions wait."""


class FeaturesIncomplete(ValueError):
    """The profile lacks what the model needs; the message names the fields."""


class NewsFileInvalid(ValueError):
    """A news file or feed that cannot be imported; `errors` names each bad row."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:10]))
        self.errors = errors


class ChatInvalid(ApplicationError):
    pass


class ConversationNotFound(ApplicationError):
    status_code = 404
