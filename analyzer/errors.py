class UserError(Exception):
    """A problem the user can fix (bad path, busy database, bad option): printed as one line, no traceback."""
