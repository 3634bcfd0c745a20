# Models arrive with this area's issue; the app exists so the project has its final shape.
