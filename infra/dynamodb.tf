# The pool table exactly as the code expects it (src/SandboxBroker.Api/Storage/DynamoDb/TableLayout.cs):
# keys PK/SK, every GSI with its key attributes, TTL on "ttl". A deploy test compares this file with the code.
resource "aws_dynamodb_table" "pool" {
  name                        = var.table_name
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "PK"
  range_key                   = "SK"
  deletion_protection_enabled = var.table_deletion_protection

  attribute {
    name = "PK"
    type = "S"
  }

  attribute {
    name = "SK"
    type = "S"
  }

  attribute {
    name = "status"
    type = "S"
  }

  attribute {
    name = "allocated_at"
    type = "N"
  }

  attribute {
    name = "allocated_to_track"
    type = "S"
  }

  attribute {
    name = "idempotency_key"
    type = "S"
  }

  attribute {
    name = "avail_shard"
    type = "S"
  }

  attribute {
    name = "name"
    type = "S"
  }

  global_secondary_index {
    name            = "StatusIndex"
    hash_key        = "status"
    range_key       = "allocated_at"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "TrackIndex"
    hash_key        = "allocated_to_track"
    range_key       = "allocated_at"
    projection_type = "ALL"
  }

  global_secondary_index {
    name            = "IdempotencyIndex"
    hash_key        = "idempotency_key"
    range_key       = "allocated_at"
    projection_type = "ALL"
  }

  # Sparse: only available sandboxes carry avail_shard.
  global_secondary_index {
    name            = "AvailableIndex"
    hash_key        = "avail_shard"
    range_key       = "name"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }

  tags = { Name = var.table_name }
}
