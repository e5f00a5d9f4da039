"""City-specific cleaning code: raw open-data files in ``layers/<city>/raw`` to catalogue layers."""

__all__: list[str] = []
