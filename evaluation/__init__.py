"""lokaldemokrati-eval."""
