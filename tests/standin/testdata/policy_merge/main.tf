terraform {
  required_providers {
    aws = {
      source = "hashicorp/aws"
    }
  }
}

locals {
  existing = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "KeepMe"
        Effect    = "Allow"
        Principal = { AWS = ["arn:aws:iam::222233334444:root", "arn:aws:iam::111122223333:root"] }
        Action    = ["s3:GetObject"]
        Resource  = "arn:aws:s3:::bucket/*"
      },
      {
        Sid       = "QuiltCrossAccountAccess"
        Effect    = "Allow"
        Principal = "*"
        Action    = "s3:*"
        Resource  = "*"
      },
    ]
  })
}

data "aws_iam_policy_document" "merged" {
  source_policy_documents = [local.existing]

  statement {
    sid = "QuiltCrossAccountAccess"

    principals {
      type        = "AWS"
      identifiers = ["arn:aws:iam::999988887777:root"]
    }

    actions   = ["s3:ListBucket", "s3:GetObject", "s3:GetBucketLocation"]
    resources = ["arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"]
  }

  statement {
    actions   = ["s3:GetObject"]
    resources = ["arn:aws:s3:::bucket/&{aws:username}/*"]

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["true"]
    }
  }
}

output "json" {
  value = data.aws_iam_policy_document.merged.json
}

output "minified_json" {
  value = data.aws_iam_policy_document.merged.minified_json
}
