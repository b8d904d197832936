"""booksnap writer process."""
