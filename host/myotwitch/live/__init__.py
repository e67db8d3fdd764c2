"""Live monitoring: finding the board, staying connected across unplugs, the session's clock,
the terminal view and the optional Lab Streaming Layer outlet."""
