"""Plugin modules that live outside the package, as a user's would."""
