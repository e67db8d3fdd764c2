"""Signal processing: pure and streaming. Imports only numpy and scipy."""
