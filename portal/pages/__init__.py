"""One module per portal page: each assembles views from portal/components and binds them to its
state class."""
