"""Live monitoring: finding the board, the session's clock,
the terminal view and the optional Lab Streaming Layer outlet."""
