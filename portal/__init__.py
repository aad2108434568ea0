"""The merchant portal (Reflex): pages compose views from components; state classes read the
session's viewer, call one service function and put its answer in state."""
