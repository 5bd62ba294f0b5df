"""How the audit trail shows sensitive values: the tax id keeps only its last four characters,
as the client's own page shows it (`Client.tax_id_masked`). auditlog's default masks only the
first half, which left 6 of 11 characters of a US SSN in clear."""

MASK = "•"


def mask_all_but_last_four(value: str) -> str:
    if value in ("", "None"):  # no tax id on one side of the change: nothing to hide
        return value
    return MASK * max(len(value) - 4, 0) + value[-4:]
