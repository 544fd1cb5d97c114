"""Site administration (organizations, users) and organization administration (members,
departments, invitations)."""
