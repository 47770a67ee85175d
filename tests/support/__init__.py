"""Code the tests load into the app (extra job kinds) and into spawned processes."""
