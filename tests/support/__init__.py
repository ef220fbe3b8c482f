"""Test helpers: databases, a scripted conversation driver, and (per platform) local fakes."""
