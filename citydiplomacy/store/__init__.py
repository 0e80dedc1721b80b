"""The registry's store: schema, migrations, sessions, repositories and the audit trail."""
