"""Reading the material events are coded from: articles and coding sheets."""
