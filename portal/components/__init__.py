"""Views shared by the portal's pages: layout, forms, tables, dialogs, charts and the payment and
webhook pieces the pages compose."""
