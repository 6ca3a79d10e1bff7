"""Portfolio analytics from the daily loan snapshot: aging, roll rates, migration, rates, exports."""
