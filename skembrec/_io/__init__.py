"""What a fitted model is and how it leaves the process: the fitted state,
the safe archive format, pickling support, SavedModel export, factors."""
