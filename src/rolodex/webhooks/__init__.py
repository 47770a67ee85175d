"""Public signed webhooks (B8): contact and conversation events posted to customers' URLs."""
