"""Webhooks: inbound/ receives and applies processors' events; outbound/ signs and
delivers merchants' events. Both claim their work rows with the one lease helper in lease.py."""
