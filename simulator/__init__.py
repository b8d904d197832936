"""booksnap simulator process."""
