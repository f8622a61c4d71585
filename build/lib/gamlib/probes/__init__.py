"""Probes that look inside models: gates and memory slots, receptive fields, associative recall."""
