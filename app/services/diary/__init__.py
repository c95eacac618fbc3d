"""The patient's own diary records on top of the sync core: episodes (pain attacks), daily
check-ins, maintenance medications with their dose history, and questionnaires."""
