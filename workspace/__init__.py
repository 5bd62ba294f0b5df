"""The advisor back office: the Django admin site and the pages that compose advisor, portfolios
and nlp. The top floor of `config ← advisor ← portfolios ← nlp ← workspace`: it may import every
app below it, none of them imports it. No models."""
