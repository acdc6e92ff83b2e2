"""Writing the course: cell kinds, cell builders, the masters as exercises, and the release to course/."""
