"""Reading what a user gives: ratings tables, validation, id vocabularies,
side features and time features. Nothing here imports TensorFlow (a test
enforces it), so loaders, splitters and metrics stay light."""
