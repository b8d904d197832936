"""booksnap collector process."""
