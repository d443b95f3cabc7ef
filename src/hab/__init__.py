"""HAB: software for a heroin-assisted treatment programme."""
