"""OAI-PMH 2.0: the six verbs over the assets index, answered as the protocol's XML.

- `verbs.py` reads a request's arguments and answers it (the entry point, `respond`);
- `harvest.py` asks Elasticsearch: one record, pages of a list over a point in time, set counts;
- `records.py` writes a record as `oai_dc` (Dublin Core) or `edm` (Europeana Data Model);
- `formats.py`, `sets.py`, `dates.py`, `tokens.py`: metadata formats, sets, datestamps, resumption tokens;
- `envelope.py` the response around them; `errors.py` the protocol's error codes.

Every query carries the caller's visibility filter (services/access/policy.py) with the tombstones of
what it could see, so a harvester sees as much as a search would, and deletions of exactly that.
"""
