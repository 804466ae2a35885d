"""Demo data: the city of Chattanooga, Tennessee, for development and demos."""
