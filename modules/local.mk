## modules/: loadable modules, one file (or folder) each.
