"""Command-line interface: parse options, build the context, call the library, render, exit."""
