"""Exception types that name what went wrong in terms a researcher can act on."""


class EvaluationError(Exception):
    """Base class for every error raised by the pipeline."""


class ConfigError(EvaluationError):
    """The configuration or a codebook is invalid (the message names the file and key)."""


class InputFileError(EvaluationError):
    """An input file cannot be read or does not have the expected structure."""


class ValidationFailed(EvaluationError):
    """A validation check with severity ``fail`` did not pass."""


class DesignError(EvaluationError):
    """A survey design cannot be used as specified (for example a lonely PSU)."""


class WeightingError(EvaluationError):
    """Weighting failed (for example raking did not converge or a margin cell is empty)."""


class EstimationError(EvaluationError):
    """A model or estimator cannot be computed from the data given."""


class RenderError(EvaluationError):
    """A report could not be rendered."""


class SensitivityInputError(EstimationError, ValueError):
    """Inputs of the parallel-trends sensitivity analysis do not fit together (the message names the argument)."""
