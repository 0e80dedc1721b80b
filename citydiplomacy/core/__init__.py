"""The domain core under every capability: the error hierarchy and the text keys all layers share."""
