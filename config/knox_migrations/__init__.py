"""Empty on purpose: knox's own migrations create `knox_authtoken` even though
KNOX_TOKEN_MODEL swaps it for advisor.DeviceToken. That orphan table would reference users
and block truncation, so knox gets no migrations at all."""
