package main

import "context"

func scalePods(ctx context.Context, c *cluster, n int) error { return nil }
