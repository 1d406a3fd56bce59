"""What citizens write about: free-text proposals and comments grouped into themes, and quotes scrubbed of identities."""
