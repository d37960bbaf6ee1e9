//! API base URLs: validation and the routes under them.
