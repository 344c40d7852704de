"""Platform connectors: ``advocacy.connectors.<platform>`` builds a client from a
connection, pages through the API, copes with rate limits and returns
``{stream: records}`` (see ``plugins/README.md``). Never imports the sandbox,
never writes the database.
"""
