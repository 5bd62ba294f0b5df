"""The ground floor of the domain: clients, KYC, the risk questionnaire, suitability, goals."""
