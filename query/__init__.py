"""booksnap query process."""
